"""The apps: the static report (``report``) and the interactive explorer (``explorer``)."""
