"""How a catalog metric is named where it reaches Prometheus, written once for every query and the simulator.

CockroachDB's own ``/_status/vars`` exports flat names (``jobs_backup_currently_paused``). Other ways the
same metrics arrive:

- ``/metrics`` with static labels (v25.3+): a family name and labels, ``jobs{name="backup",
  status="currently_paused"}``; metrics without a labelled name keep the flat one;
- CockroachDB Cloud's export: a ``crdb_cloud_`` prefix; the older Dedicated export: ``crdb_dedicated_``
  and lower case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (flat-name pattern, family, labels): the labelled names of CockroachDB's metric list.
_STATIC = [
    (r"jobs_(backup|restore|poll_jobs_stats)_(currently_running|currently_idle)", "jobs",
     {"type": 1, "status": 2}),
    (r"jobs_(backup|restore)_(currently_paused)", "jobs", {"name": 1, "status": 2}),
    (r"jobs_(backup|restore)_resume_(completed|failed|retry_error)", "jobs_resume", {"name": 1, "status": 2}),
    (r"jobs_(backup|restore)_fail_or_cancel_(completed|failed|retry_error)", "jobs_fail_or_cancel",
     {"name": 1, "status": 2}),
    (r"jobs_(backup|restore)_(protected_age_sec|protected_record_count|expired_pts_records)", r"jobs_\2",
     {"type": 1}),
    (r"schedules_(BACKUP)_(started|succeeded|failed)", "schedules", {"name": 1, "status": 2}),
    (r"schedules_(BACKUP)_(protected_age_sec|protected_record_count)", r"schedules_\2", {"name": 1}),
]


@dataclass(frozen=True)
class Naming:
    prefix: str = ""
    lower_case: bool = False
    static_labels: bool = False

    def family(self, exported: str) -> tuple[str, dict[str, str]]:
        """The metric name Prometheus stores for a flat exported name, and the labels that pick it out."""
        name, labels = static_form(exported) if self.static_labels else (exported, {})
        name = self.prefix + name
        return (name.lower() if self.lower_case else name), labels

    def selector(self, exported: str, matchers: str) -> str:
        """A PromQL series selector: the name, the labels of its labelled form, then ``matchers``."""
        name, labels = self.family(exported)
        parts = [f'{k}="{v}"' for k, v in labels.items()] + ([matchers] if matchers else [])
        return f"{name}{{{', '.join(parts)}}}"


def static_form(exported: str) -> tuple[str, dict[str, str]]:
    for pattern, family, groups in _STATIC:
        found = re.fullmatch(pattern, exported)
        if found:
            return found.expand(family), {label: found.group(g) for label, g in groups.items()}
    return exported, {}
