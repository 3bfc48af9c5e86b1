"""Reader capabilities and card/reader compatibility: the CCID descriptor, the driver's choices.

Pure modules: :mod:`.ccid` decodes the CCID class descriptor, :mod:`.sysfs` finds it on Linux
without privileges, :mod:`.driver` reads libccid's reader list, :mod:`.quirks` holds the readers
the driver corrects, :mod:`.speed` predicts libccid's speed choice, :mod:`.clock` gives clock
advice and :mod:`.rules` turns card ATR x reader capabilities into findings and a verdict.
"""
