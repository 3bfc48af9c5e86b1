"""The PC/SC adapter: readers, their states, card connections and plain-language PC/SC errors.

:mod:`cardcheck.pcsc.adapter` is the only module of cardcheck that imports pyscard; the value
types it returns are in :mod:`cardcheck.pcsc.model` and the error translation in
:mod:`cardcheck.pcsc.errors`. Start with::

    from cardcheck.pcsc.adapter import open_context

    with open_context() as pcsc:
        for info in pcsc.reader_states():
            print(info.name, info.state.labels(), info.atr)
"""
