"""Bridges from Assetboard's definitions to other orchestrators.

Each bridge lives in its own module and is the only place that imports its orchestrator:
`import pipeline` never pulls Dagster in (`pipeline.integrations.dagster` does).
"""
