"""Commissions: a subset of the units and some members, who debate and vote amendments on those units
first and report a consolidated text (the dictamen) to the plenary as one proposal."""
