"""Traceability: calibration records, certificates, nonconformity and the chain of standards."""
