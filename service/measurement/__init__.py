"""Measurement data: the numbers that show equipment sound between and beyond its calibrations.

One subpackage per kind of evidence, each with its rules as pure functions (``rules.py``) and the
usual ``operations``, ``queries``, ``schemas`` and ``views``: intermediate checks with their control
charts (``checks``), stability and repeatability (``stability``), comparisons and proficiency tests
(``comparisons``), and the comparison projects the institute leads as lead laboratory
(``projects``). Their pages join the one ``measurement`` blueprint.
"""
