"""An emulated USB CCID reader (any real reader's descriptor) under umockdev, driven by the real
pcscd and libccid: the test bench for everything cardcheck says about USB readers.

- :mod:`~cardcheck.testing.usbemu.descriptors`: a real reader's descriptors from its dump.
- :mod:`~cardcheck.testing.usbemu.ccid`: the reader and its card as CCID messages, logged.
- :mod:`~cardcheck.testing.usbemu.host`: the umockdev testbed and usbfs handler (system Python).
- :mod:`~cardcheck.testing.usbemu.emulator`: :class:`EmulatedReader`, which runs the handler
  and a private pcscd; :mod:`~cardcheck.testing.usbemu.client`, the PC/SC client processes.
- :mod:`~cardcheck.testing.usbemu.cases`, :mod:`~cardcheck.testing.usbemu.selection` and
  :mod:`~cardcheck.testing.usbemu.differential`: the ATRs, the readers, and the comparison of
  ``cardcheck compat``'s predictions with what libccid did.
"""
