"""Decoder throughput: every plain ATR of the pcsc-tools list, decoded in one process.

As in a bulk ``cardcheck atr --file``: the decoder's
caches emptied before each round (a new process starts with none), JSON written as the CLI
writes it (``atr_json_text``) and, for comparison, through ``json.dumps(atr_to_json(...))``.
Prints a human line and a JSON line on stdout; asserts nothing (timings are not tests).
Run: .venv/bin/python bench/bench_decode.py [path/to/smartcard_list.txt]
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from cardcheck.atr import decode, jsonout
from cardcheck.atr.decode import decode_atr
from cardcheck.atr.jsonout import atr_json_text, atr_to_json

DEFAULT_LIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "smartcard_list.latest.txt"
PLAIN_ATR = re.compile(r"^3[BF](?: [0-9A-F]{2})*$")
ROUNDS = 5


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_LIST
    lines = path.read_text(encoding="utf-8").splitlines()
    atrs = [bytes.fromhex(line.replace(" ", "")) for line in lines if PLAIN_ATR.match(line)]

    best_decode = float("inf")
    best_json = float("inf")
    best_dumps = float("inf")
    for _ in range(ROUNDS):
        decode.cache_clear()
        jsonout.cache_clear()
        start = time.perf_counter()
        infos = [decode_atr(atr) for atr in atrs]
        best_decode = min(best_decode, time.perf_counter() - start)
        start = time.perf_counter()
        for info in infos:
            atr_json_text(info)
        best_json = min(best_json, time.perf_counter() - start)
        start = time.perf_counter()
        for info in infos:
            json.dumps(atr_to_json(info), ensure_ascii=False)
        best_dumps = min(best_dumps, time.perf_counter() - start)

    invalid = sum(1 for info in infos if not info.valid)
    figures = {
        "bench": "decode",
        "atrs": len(atrs),
        "rounds": ROUNDS,
        "decode_s": round(best_decode, 4),
        "decode_atrs_per_s": round(len(atrs) / best_decode),
        "decode_us_per_atr": round(best_decode / len(atrs) * 1e6, 1),
        "decode_and_json_atrs_per_s": round(len(atrs) / (best_decode + best_json)),
        "json_text_us_per_atr": round(best_json / len(atrs) * 1e6, 1),
        "json_dumps_us_per_atr": round(best_dumps / len(atrs) * 1e6, 1),
        "invalid": invalid,
        "python": sys.version.split()[0],
    }
    print(
        f"decode_atr: {figures['atrs']} ATRs in {best_decode * 1e3:.1f} ms (best of {ROUNDS}): "
        f"{figures['decode_atrs_per_s']} ATRs/s, {figures['decode_us_per_atr']} µs each; "
        f"with JSON {figures['decode_and_json_atrs_per_s']} ATRs/s "
        f"(JSON text {figures['json_text_us_per_atr']} µs each; through json.dumps of the "
        f"dict {figures['json_dumps_us_per_atr']} µs); {invalid} invalid"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
