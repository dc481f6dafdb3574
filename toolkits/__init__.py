"""The app's tools (spaces, todo, habits, notes, journal, me) and the store they act on.

Every name is imported from its module on first use, so importing one part (the store, the
table printer) does not pull in the others or the image SDK.
"""

from typing import TYPE_CHECKING

from planner import lazy_exports

if TYPE_CHECKING:
    from toolkits.cli import print_table, tools_list
    from toolkits.crypto import FieldCipher
    from toolkits.errors import StoreError, ToolkitError
    from toolkits.keyvault import KeyVault, LocalKeyVault
    from toolkits.ledger import CallLedger
    from toolkits.models import ToolModel
    from toolkits.registry import default_registry
    from toolkits.schema import ROLES, SPACE_TYPES
    from toolkits.scope import ScopedSession
    from toolkits.seed import SeedSummary, seed_demo
    from toolkits.store import DATABASE_URL_ENV, VAR_DIR_ENV, Store, open_store
    from toolkits.tenancy import (
        PERSONAL_ALIAS,
        add_member,
        create_space,
        get_space,
        membership,
        personal_space_id,
        resolve_space_id,
    )
    from toolkits.toolkit import Toolkit, once, tool_method

__getattr__ = lazy_exports(
    __name__,
    {
        "toolkits.cli": ("print_table", "tools_list"),
        "toolkits.crypto": ("FieldCipher",),
        "toolkits.errors": ("StoreError", "ToolkitError"),
        "toolkits.keyvault": ("KeyVault", "LocalKeyVault"),
        "toolkits.ledger": ("CallLedger",),
        "toolkits.models": ("ToolModel",),
        "toolkits.registry": ("default_registry",),
        "toolkits.schema": ("ROLES", "SPACE_TYPES"),
        "toolkits.scope": ("ScopedSession",),
        "toolkits.seed": ("SeedSummary", "seed_demo"),
        "toolkits.store": ("DATABASE_URL_ENV", "VAR_DIR_ENV", "Store", "open_store"),
        "toolkits.tenancy": (
            "PERSONAL_ALIAS",
            "add_member",
            "create_space",
            "get_space",
            "membership",
            "personal_space_id",
            "resolve_space_id",
        ),
        "toolkits.toolkit": ("Toolkit", "once", "tool_method"),
    },
)

__all__ = [
    "DATABASE_URL_ENV",
    "PERSONAL_ALIAS",
    "ROLES",
    "SPACE_TYPES",
    "VAR_DIR_ENV",
    "CallLedger",
    "FieldCipher",
    "KeyVault",
    "LocalKeyVault",
    "ScopedSession",
    "SeedSummary",
    "Store",
    "StoreError",
    "ToolModel",
    "Toolkit",
    "ToolkitError",
    "add_member",
    "create_space",
    "default_registry",
    "get_space",
    "membership",
    "once",
    "open_store",
    "personal_space_id",
    "print_table",
    "resolve_space_id",
    "seed_demo",
    "tool_method",
    "tools_list",
]
