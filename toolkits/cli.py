"""`tools list`, `media add`, `spaces create|list|join`; the CLI root mounts them by `register`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import create_async_engine

from planner import ToolContext, read_tools_are_parallel_safe
from toolkits import default_registry, media
from toolkits.crypto import FieldCipher
from toolkits.errors import StoreError, ToolkitError
from toolkits.keyvault import DEFAULT_KEYSTORE, LocalKeyVault
from toolkits.media import DEFAULT_MEDIA_DIR
from toolkits.schema import ROLES, SPACE_TYPES
from toolkits.store import DATABASE_URL_ENV, Store, open_store
from toolkits.tenancy import PERSONAL_ALIAS

T = TypeVar("T")

tools_app = typer.Typer(help="The app's tools.", no_args_is_help=True)
media_app = typer.Typer(
    help="Me-images: reference photos for image generation.", no_args_is_help=True
)
spaces_app = typer.Typer(help="Spaces and memberships.", no_args_is_help=True)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", envvar=DATABASE_URL_ENV, help="Store URL (default: SQLite at ./var/mana.db)."
    ),
]
UserOpt = Annotated[str, typer.Option("--user", envvar="MANA_USER", help="Acting user id.")]
KeystoreOpt = Annotated[Path, typer.Option("--keystore", help="Local keystore file.")]
MediaDirOpt = Annotated[Path, typer.Option("--media-dir", help="Where media files live.")]


def register(app: typer.Typer) -> None:
    """Mount `tools`, `media` and `spaces` on the CLI root."""
    app.add_typer(tools_app, name="tools")
    app.add_typer(media_app, name="media")
    app.add_typer(spaces_app, name="spaces")


@tools_app.callback()
def _tools() -> None:
    """The app's tools."""


@media_app.callback()
def _media() -> None:
    """Me-images: reference photos for image generation."""


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table on a terminal; tab-separated lines (header first) when piped."""
    console = Console()
    if not console.is_terminal:
        for line in [columns, *rows]:
            typer.echo("\t".join(line))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine; toolkit and store errors become a one-line message and exit code 1."""
    try:
        return asyncio.run(work())
    except (ToolkitError, StoreError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@tools_app.command("list")
def tools_list() -> None:
    """List every tool: name, scope, policy hint and whether it may run in parallel."""
    # Building the registry touches no data: the store is never opened.
    store = Store(create_async_engine("sqlite+aiosqlite://"))
    registry = default_registry(store, LocalKeyVault(DEFAULT_KEYSTORE))
    print_table(
        "tools",
        ["name", "scope", "hint", "parallel-safe"],
        [
            [s.name, s.scope, s.policy_hint, "yes" if read_tools_are_parallel_safe(s) else "no"]
            for s in registry
        ],
    )


@media_app.command("add")
def media_add(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    kind: Annotated[str, typer.Option(help="face, body, style, ...")] = "face",
    reference: Annotated[bool, typer.Option(help="Usable as an AI reference.")] = True,
    label: Annotated[str | None, typer.Option(help="A short label (stored encrypted).")] = None,
    slot: Annotated[str | None, typer.Option(help="Make it primary for this slot.")] = None,
    user: UserOpt = "demo",
    space: Annotated[str, typer.Option(help="Space id (default: personal).")] = PERSONAL_ALIAS,
    db: DbOpt = None,
    keystore: KeystoreOpt = DEFAULT_KEYSTORE,
    media_dir: MediaDirOpt = DEFAULT_MEDIA_DIR,
) -> None:
    """Add an image file to a space as one of the user's me-images."""

    async def work() -> str:
        cipher = FieldCipher(LocalKeyVault(keystore))
        async with await open_store(db) as store:
            ctx = ToolContext(user_id=user, space_id=space, run_id="cli", invoker="admin")
            async with store.scoped(ctx) as s:
                row = await media.add_image(
                    s,
                    cipher,
                    media_dir,
                    file.read_bytes(),
                    mime=media.guess_mime(file),
                    kind=kind,
                    ai_reference=reference,
                    label=label,
                )
                if slot:
                    await media.set_primary(s, row["id"], slot)
                return f"{row['id']}\t{s.space_id}\t{media.resolve(media_dir, row['path'])}"

    typer.echo(run(work))


@spaces_app.command("create")
def spaces_create(
    name: str,
    type_: Annotated[str, typer.Option("--type", help=", ".join(SPACE_TYPES[1:]))] = "team",
    owner: Annotated[
        str, typer.Option("--owner", envvar="MANA_USER", help="Owning user id.")
    ] = "demo",
    space_id: Annotated[
        str | None, typer.Option("--id", help="Space id (default: random).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Create a shared space; the owner becomes its first member."""

    async def work() -> str:
        async with await open_store(db) as store:
            space = await store.create_space(owner, type_, name, space_id)
        return space.id

    typer.echo(run(work))


@spaces_app.command("list")
def spaces_list(user: UserOpt = "demo", db: DbOpt = None) -> None:
    """List the user's spaces and their role in each."""

    async def work() -> list[list[str]]:
        async with await open_store(db) as store:
            found = await store.spaces_of(user)
        return [[m.space.id, m.space.type, m.space.name, m.role] for m in found]

    print_table(f"spaces of {user}", ["id", "type", "name", "role"], run(work))


@spaces_app.command("join")
def spaces_join(
    space_id: str,
    user: UserOpt = "demo",
    role: Annotated[str, typer.Option(help=", ".join(ROLES))] = "member",
    db: DbOpt = None,
) -> None:
    """Add the user to a space (or change their role there)."""

    async def work() -> str:
        async with await open_store(db) as store:
            m = await store.add_member(space_id, user, role)
        return f"{m.user_id}\t{m.space.id}\t{m.role}"

    typer.echo(run(work))
