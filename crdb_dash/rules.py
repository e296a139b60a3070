"""Alert and recording rules (filled in by the alerts work)."""


def render(cfg) -> dict[str, str]:
    return {}
