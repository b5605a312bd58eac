"""What a chapter shows: plots, diagrams, cell diagrams, tables, widgets and claims.

Layer 5: imports the layers below (a plot may draw a training history), never experiments,
analysis or the CLI.
"""
