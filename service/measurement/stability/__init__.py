"""Stability and repeatability (稳定性考核, 重复性试验; JJF 1033) of an instrument or a standard."""
