"""Why PC/SC sees no reader, or cannot use it: the diagnosis behind ``cardcheck doctor``.

:mod:`~cardcheck.doctor.host` reads files under a root path (sysfs, /proc, /etc, /run),
:mod:`~cardcheck.doctor.probes` runs the few live probes (pcscd's socket, ``pcscd --version``,
PC/SC state through the adapter), :mod:`~cardcheck.doctor.collect` gathers the facts and
:mod:`~cardcheck.doctor.diagnose` turns them, without any I/O, into a report. Nothing here
changes the system: fixes are commands for the user to run.
"""
