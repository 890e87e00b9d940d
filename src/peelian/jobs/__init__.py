"""Jobs: read the store, run pure analysis, persist results.

A job is the glue between the data layer and the analysis layer, called by the CLI, by
``peelian demo`` and by scheduled runs. Jobs never render anything: surfaces do that.
"""
