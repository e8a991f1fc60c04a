"""Constant catalogs the seeded domains draw from: statuses, workflow actions, alert types, rules.

Facts carry their source; anything marked "emulator-local" is invented because no public source
gives it (sekoia-api.md §8).
"""

from __future__ import annotations

# Legacy alert statuses (sekoia-api.md §2.3; the spec's PATCH status_uuid enum).
# Descriptions: Pending from the spec's /alerts/statuses example, Acknowledged from the recorded
# fixtures; the other three are emulator-local wording.
PENDING = "2efc4930-1442-4abb-acf2-58ba219a4fd0"
ACKNOWLEDGED = "8f206505-af6d-433e-93f4-775d46dc7d0f"
ONGOING = "1f2f88d5-ff5b-48bf-bbbc-00c2fff82d9f"
REJECTED = "4f68da89-38e0-4703-a6ab-652f02bdf24e"
CLOSED = "1738b1c1-767d-489e-bada-19176621a007"

ALERT_STATUSES: dict[str, dict[str, str]] = {
    PENDING: {
        "uuid": PENDING,
        "name": "Pending",
        "description": "The alert is waiting for an action",
    },
    ACKNOWLEDGED: {
        "uuid": ACKNOWLEDGED,
        "name": "Acknowledged",
        "description": "The alert was checked by an operator",
    },
    ONGOING: {"uuid": ONGOING, "name": "Ongoing", "description": "The alert is being handled"},
    REJECTED: {"uuid": REJECTED, "name": "Rejected", "description": "The alert was rejected"},
    CLOSED: {"uuid": CLOSED, "name": "Closed", "description": "The alert was handled and closed"},
}

# Workflow actions (sekoia-api.md §2.3; descriptions from the recorded workflow fixture).
ACKNOWLEDGE = "937bdabf-6a08-434b-b6d3-d7447e4e452a"
VALIDATE = "c39a0a95-aa2c-4d0d-8d2e-d3decf426eea"
REJECT = "ade85d7b-7507-4026-bfc6-cc006d10ddac"
CLOSE = "1390be4e-ced8-4dd6-9bed-573471b235ab"

ACTIONS: dict[str, dict[str, str]] = {
    ACKNOWLEDGE: {"id": ACKNOWLEDGE, "name": "Acknowledge", "description": "Acknowledge the alert"},
    VALIDATE: {"id": VALIDATE, "name": "Validate", "description": "Validate the alert"},
    REJECT: {"id": REJECT, "name": "Reject", "description": "Reject the alert"},
    CLOSE: {"id": CLOSE, "name": "Close", "description": "Close the alert"},
}
ACTION_TARGET: dict[str, str] = {
    ACKNOWLEDGE: ACKNOWLEDGED,
    VALIDATE: ONGOING,
    REJECT: REJECTED,
    CLOSE: CLOSED,
}
# The legacy status machine (sekoia-api.md §2.3, inferred there): Rejected and Closed are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    PENDING: (ACKNOWLEDGE, REJECT),
    ACKNOWLEDGED: (VALIDATE, REJECT),
    ONGOING: (CLOSE, REJECT),
    REJECTED: (),
    CLOSED: (),
}

# Alert types (ECSIRT taxonomy). The six UUIDs are the ones Sekoia integrations send as
# alert_type_uuid (599f4b1a… is the quickstart's; the others from public connector code);
# the rest are emulator-local.
_ALERT_TYPE_ROWS: list[tuple[str, str, str]] = [
    ("599f4b1a-dd60-43fe-8ee9-07d3c5d00ded", "intrusions", "application-compromise"),
    ("0b7c0b5b-da8e-4e43-a2e1-11cb5a40f168", "information-content-security", "exfiltration"),
    ("47e51ab7-4caa-4c4b-8442-a1caf868806d", "malicious-code", "c&c"),
    ("5928d144-2038-4a87-b996-b3585a9a1a41", "intrusions", "backdoor"),
    ("4321cd89-89d6-4674-9e99-690ce0e61621", "intrusion-attempts", "exploit"),
    ("38305ebd-cec9-47ff-b38b-d20bd22eb79d", "information-gathering", "appscan"),
    ("8d3f4e1a-6b2c-4d7e-9f80-1a2b3c4d5e6f", "intrusion-attempts", "brute-force"),
    (
        "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
        "information-content-security",
        "unauthorised-information-access",
    ),
    ("c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f", "malicious-code", "ransomware"),
    ("d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70", "fraud", "phishing"),
]
ALERT_TYPES: list[dict[str, str]] = [
    {"uuid": u, "category": c, "value": v} for u, c, v in _ALERT_TYPE_ROWS
]
ALERT_TYPES_BY_UUID = {t["uuid"]: t for t in ALERT_TYPES}

# Rule severity names accepted by match[severity] (the rules tutorial filters on "high"). Bands are
# emulator-local, chosen so Sigma levels low/medium/high/critical (30/50/70/90) fall in their band.
SEVERITY_BANDS: dict[str, tuple[int, int]] = {
    "low": (0, 39),
    "medium": (40, 59),
    "high": (60, 79),
    "critical": (80, 100),
}
# Effort names of the public rules catalog docs, mapped to the API's 1-4 scale.
EFFORTS = {1: "elementary", 2: "intermediate", 3: "advanced", 4: "master"}

# (name, description, severity, effort, alert type index, payload) of Sekoia's catalog rules.
# Names and descriptions come from Sekoia's public rules catalog documentation.
CATALOG_RULES: list[tuple[str, str, int, int, int, str]] = [
    (
        "Suspicious Windows Defender Exclusion Command",
        "Detects PowerShell commands aiming to exclude path, process, IP address, or extension "
        "from scheduled and real-time scanning. These commands can be used by attackers or "
        "malware to avoid being detected by Windows Defender.",
        80, 4, 0,
        "detection:\n  selection:\n    process.command_line|contains:\n      - 'Add-MpPreference'\n"
        "      - 'Set-MpPreference'\n    process.command_line|contains:\n      - 'ExclusionPath'\n"
        "      - 'ExclusionProcess'\n  condition: selection",
    ),
    (
        "Suspicious Windows DNS Queries",
        "Detects a suspicious Windows command-line process making a DNS query via known abuse "
        "text paste web services.",
        50, 3, 5,
        "detection:\n  selection:\n    dns.question.name|endswith:\n      - 'pastebin.com'\n"
        "      - 'paste.ee'\n  condition: selection",
    ),
    (
        "Suspicious Taskkill Command",
        "Detects rare taskkill command being used. It could be related to Baby Shark malware.",
        50, 2, 3,
        "detection:\n  selection:\n    process.command_line|contains: 'taskkill /f /im'\n"
        "  condition: selection",
    ),
    (
        "Suspicious VBS Execution Parameter",
        "Detects suspicious VBS file execution with a specific parameter by cscript.",
        70, 1, 0,
        "detection:\n  selection:\n    process.name: 'cscript.exe'\n"
        "    process.command_line|contains: '/b '\n  condition: selection",
    ),
    (
        "Suspicious Windows Installer Execution",
        "Detects suspicious execution of the Windows Installer service (msiexec.exe).",
        60, 3, 0,
        "detection:\n  selection:\n    process.name: 'msiexec.exe'\n"
        "    process.command_line|contains: 'http'\n  condition: selection",
    ),
    (
        "Mimikatz Basic Commands",
        "Detects Mimikatz command-line arguments used to dump credentials.",
        90, 1, 3,
        "detection:\n  selection:\n    process.command_line|contains:\n      - 'sekurlsa::'\n"
        "      - 'lsadump::'\n  condition: selection",
    ),
    (
        "SSH Brute Force",
        "Detects many failed SSH authentications from one source in a short time.",
        40, 2, 6,
        "detection:\n  selection:\n    event.dialect: 'sshd'\n    event.outcome: 'failure'\n"
        "  condition: selection | count() by source.ip > 20",
    ),
    (
        "Network Scanner Detected",
        "Detects a host contacting many destination ports in a short time.",
        30, 2, 5,
        "detection:\n  selection:\n    event.category: 'network'\n"
        "  condition: selection | count(destination.port) by source.ip > 100",
    ),
    (
        "Ransomware File Extension",
        "Detects files renamed with extensions used by common ransomware families.",
        95, 1, 8,
        "detection:\n  selection:\n    file.extension:\n      - 'locky'\n      - 'wncry'\n"
        "  condition: selection",
    ),
    (
        "Phishing URL Click",
        "Detects a user following a link listed in Sekoia's phishing intelligence.",
        60, 2, 9,
        "detection:\n  selection:\n    url.domain|endswith: '.phish.example'\n"
        "  condition: selection",
    ),
    (
        "Data Exfiltration Over DNS",
        "Detects long DNS labels typical of tunnelling tools.",
        70, 3, 1,
        "detection:\n  selection:\n    dns.question.name|re: '^[a-z0-9]{50,}\\.'\n"
        "  condition: selection",
    ),
    (
        "Cobalt Strike Beacon Traffic",
        "Detects HTTP traffic matching Cobalt Strike malleable profiles.",
        85, 2, 2,
        "detection:\n  selection:\n    http.request.method: 'GET'\n"
        "    url.path|re: '^/[a-zA-Z]{4}$'\n  condition: selection",
    ),
    (
        "Unauthorized IP access",
        "Unauthorized network access from one lan to an other one",
        35, 2, 7,
        "detection:\n  selection:\n    destination.port: 22\n  condition: selection",
    ),
    (
        "Exploit Public-Facing Application",
        "Detects web requests carrying exploitation payloads for known vulnerabilities.",
        75, 3, 4,
        "detection:\n  selection:\n    url.original|contains:\n"
        "      - '${jndi:'\n      - '../../'\n  condition: selection",
    ),
    (
        "Persistence Via Scheduled Task",
        "Detects scheduled tasks created from suspicious folders.",
        55, 2, 3,
        "detection:\n  selection:\n    process.name: 'schtasks.exe'\n"
        "    process.command_line|contains: '\\\\AppData\\\\'\n  condition: selection",
    ),
]  # fmt: skip

ENTITY_FALLBACK_NAMES = ["Information Technology", "Headquarters", "Production"]
HOST_PREFIXES = ["WKS", "SRV", "LAP", "DC", "DMZ"]
USER_NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
KILL_CHAINS = ["KCXKNfnJuUUU", "KCXKNfnJupq5", "KCq7XbRRLjZm", "KCbN2Kv3aHfE", "KCzTEy4Vj2Tt"]
TTPS = [
    ("attack-pattern--01a5a209-b94c-450b-b7f9-946497d91055", "Windows Management Instrumentation"),
    ("attack-pattern--970a3432-3237-47ad-bcca-7d8cbb217736", "PowerShell"),
    ("attack-pattern--a93494bb-4b80-4ea1-8695-3236a49916fd", "Brute Force"),
    ("attack-pattern--ac9e6b22-11bf-45d7-9181-c1cb08360931", "Disable or Modify Tools"),
]
ADVERSARIES = [
    ("intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a", "Lazarus Group"),
    ("intrusion-set--899ce53f-13a0-479b-a0e4-67d46e241542", "APT29"),
]

# Case statuses. The recorded case carries status "opened"; the UUIDs are emulator-local.
CASE_STATUSES: dict[str, str] = {
    "opened": "6adc2d64-87ee-4394-9f1f-1a0b2c3d4e5f",
    "in_progress": "7bed3e75-98ff-4405-8a2a-2b1c3d4e5f60",
    "closed": "8cfe4f86-a900-4516-9b3b-3c2d4e5f6071",
}
CASE_STATUS_BY_UUID = {v: k for k, v in CASE_STATUSES.items()}

# Roles seeded in every community (names as Sekoia's UI shows them; UUIDs derive from the seed).
ROLE_TEMPLATES: list[tuple[str, str, tuple[str, ...]]] = [
    ("Admin", "Full access to the community", ("*",)),
    (
        "Analyst",
        "Handles alerts and cases",
        ("View alerts", "Update alert status", "Comment on alerts", "View cases", "Manage cases"),
    ),
    ("Read only", "Can view everything and change nothing", ("View alerts", "View cases")),
    ("soar_operator", "Runs playbooks", ("View alerts", "Manage alerts")),
]
