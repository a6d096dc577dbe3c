"""Moving every member's balance from one upstream to another (`loyalty-gateway migrate`): the endpoints
read from TOML, the member list, the plan, the append-only checkpoint, the run and its verification. Names
no vendor: it is handed the registered upstream dialects and talks to the ports they connect."""
from .checkpoint import Checkpoint, CheckpointError, Plan
from .endpoints import Endpoint, MigrationError, load_endpoint
from .members import Pair, discover, read_members
from .plan import MODES, key_for, movement, run_id_for
from .runner import Migrator, Outcome
from .verification import Row, summary, verify, write_reports

__all__ = [
    "Checkpoint", "CheckpointError", "Endpoint", "MODES", "MigrationError", "Migrator", "Outcome", "Pair", "Plan",
    "Row", "discover", "key_for", "load_endpoint", "movement", "read_members", "run_id_for", "summary", "verify", "write_reports",
]
