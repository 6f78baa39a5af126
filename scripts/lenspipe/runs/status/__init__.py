"""The status of a run: ``python -m lenspipe status`` (see ``lenspipe.runs.status.campaign``)."""
