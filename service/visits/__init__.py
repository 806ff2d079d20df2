"""Visits: technicians, visit planning, client confirmation, on-site worksheets, service orders."""
