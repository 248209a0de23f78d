"""RQ jobs that run the projections."""
