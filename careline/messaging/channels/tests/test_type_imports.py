"""A channel type sits below the pipeline that uses it: it reaches the pipeline by task name, never by import."""

from __future__ import annotations

from careline.testing.import_cycles import careline_import_graph

PIPELINE = (
    "careline.messaging.outbound",
    "careline.messaging.tasks",
    "careline.messaging.services.announcements",
    "careline.messaging.services.channels",
    "careline.messaging.services.inbound",
    "careline.messaging.services.simulator",
)


def test_no_channel_type_imports_the_pipeline_that_sends_through_it() -> None:
    graph = careline_import_graph()
    types = [
        module
        for module in graph
        if module.startswith("careline.messaging.channels.") and module.endswith(".type")
    ]
    assert "careline.messaging.channels.simulator.type" in types
    found = {
        module: sorted(target for target in graph[module] if target.startswith(PIPELINE))
        for module in types
        if any(target.startswith(PIPELINE) for target in graph[module])
    }
    assert found == {}
