"""Reading trained models and runs: error analysis, probes, gradients through time,
baselines, curricula and the spread over seeds.

Layer 8: the highest library layer; only the CLI stands above it.
"""
