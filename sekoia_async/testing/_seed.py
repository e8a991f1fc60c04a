"""Deterministic seed data shared by every emulated domain: communities, entities, intakes.

The core fills ``state.communities``, ``state.entities`` and ``state.intakes`` with these before it
calls any domain's ``routes()``; the same seed always gives the same UUIDs, names and keys.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from .._times import format_time
from ._routing import EmulatorState

__all__ = ["seed_state", "seeded_uuid"]

# (intake name, dialect, format uuid): real Sekoia intake formats.
_INTAKES = [
    ("Windows event logs", "windows", "a6d3cd35-3f26-4bd9-8de5-4e6a6c2e0a4c"),
    ("Sekoia.io Endpoint Agent", "sekoia endpoint agent", "250e4095-fa08-4101-bb02-e72f870fcbd1"),
    ("Fortinet FortiGate", "fortinet fortigate", "2e5b8a4c-2f8b-4c5d-8e1b-7a3b2c9d6f1e"),
    ("NGINX", "nginx", "fd0e9a1b-7c4d-4e2f-9a8b-3c6d5e4f2a1b"),
    ("Microsoft 365", "office 365", "4bdf0c2a-8b5e-4d3f-a1c7-9e6b2d8f0a3c"),
]
_ENTITIES = [("Headquarters", "HQ"), ("Datacenter Paris", "DC-PAR"), ("Branch Lyon", "BR-LYS")]


def seeded_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (deterministic under the seed)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed_state(state: EmulatorState) -> None:
    """Fill the shared reference data of ``state`` from ``state.seed``."""
    rng = random.Random(f"sekoia-seed:{state.seed}")
    created = datetime(2024, 1, 15, 9, 0, tzinfo=timezone.utc)
    main_uuid = seeded_uuid(rng)
    sub_uuid = seeded_uuid(rng)
    creator = seeded_uuid(rng)
    state.communities = [
        {
            "uuid": main_uuid,
            "name": "Emulated SOC",
            "description": "The main community of the emulator",
            "homepage_url": "https://soc.example.com",
            "picture_mode": "initials",
            "created_at": format_time(created),
            "created_by": creator,
            "created_by_type": "avatar",
            "is_parent": True,
            "is_mfa_enforced": False,
            "parent_community_uuid": None,
            "subcommunities": [sub_uuid],
            "session_timeout": 60,
            "disable_inactive_avatars": False,
            "disabled": False,
        },
        {
            "uuid": sub_uuid,
            "name": "Emulated customer",
            "description": "A managed sub-community",
            "homepage_url": None,
            "picture_mode": "initials",
            "created_at": format_time(created + timedelta(days=3)),
            "created_by": creator,
            "created_by_type": "avatar",
            "is_parent": False,
            "is_mfa_enforced": False,
            "parent_community_uuid": main_uuid,
            "subcommunities": [],
            "session_timeout": 60,
            "disable_inactive_avatars": False,
            "disabled": False,
        },
    ]
    state.entities = []
    for number, (name, entity_id) in enumerate(_ENTITIES):
        community = main_uuid if number < 2 else sub_uuid
        state.entities.append(
            {
                "uuid": seeded_uuid(rng),
                "name": name,
                "entity_id": entity_id,
                "description": f"{name} perimeter",
                "alerts_generation": "automatic",
                "community_uuid": community,
                "number_of_intakes": 0,
            }
        )
    state.intakes = []
    for number, (name, dialect, format_uuid) in enumerate(_INTAKES):
        entity = state.entities[number % len(state.entities)]
        entity["number_of_intakes"] += 1
        state.intakes.append(
            {
                "uuid": seeded_uuid(rng),
                "name": name,
                "community_uuid": entity["community_uuid"],
                "entity_uuid": entity["uuid"],
                "format_uuid": format_uuid,
                "dialect": dialect,
                "intake_key": f"{rng.getrandbits(128):032x}",
                "is_custom_format": False,
                "connector_configuration_uuid": None,
                "created_at": format_time(created + timedelta(days=number)),
                "created_by": creator,
                "created_by_type": "avatar",
                "updated_at": format_time(created + timedelta(days=number)),
                "status": "running",
                "length": 0,
            }
        )
