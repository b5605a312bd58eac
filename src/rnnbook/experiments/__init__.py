"""Runs on disk: a run's config, reproducing command and memory check, run, group and grid folders,
their manifests, and the re-evaluation of committed runs.

Layer 6: above training and figures (a grid draws its own slider).
"""
