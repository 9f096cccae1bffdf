"""`hedge check SPEC.yaml`: validate a service spec and show what it resolves to.

Exit 0 with a summary of the resolved spec (defaults filled in) and any warnings; a bad spec
prints one line on stderr and exits 2 (via `app.main`'s InputError contract). `--all` lists
every schema problem, one line each, instead of the first.

Beyond the schema, a spec for the local provider goes through the same zone planning as
`hedge up` (`providers.factory.plan_zones`): the emulated trace must load, its zones exist and
`start_hour` lie inside it, so `check` accepts exactly what `up` would start. Other providers
cannot run yet; `check` says so as a warning.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def check(
    spec_file: Annotated[
        str,
        typer.Argument(
            help="The service spec (YAML) to validate.", metavar="SPEC.yaml", show_default=False
        ),
    ],
    all_problems: Annotated[
        bool, typer.Option("--all", help="List every problem, one line each, not only the first.")
    ] = False,
) -> None:
    """Validate a service spec and print its resolved summary (exit 2 if it is invalid)."""
    from rich.console import Console
    from rich.table import Table

    from hedgeserve.providers.factory import plan_zones
    from hedgeserve.spec import SpecError, load_spec
    from hedgeserve.spec.describe import describe_spec
    from hedgeserve.spec.provider import ProviderName

    try:
        spec = load_spec(spec_file)
    except SpecError as err:
        if not all_problems:
            raise
        for line in err.lines():
            print(f"hedge: error: {line}", file=sys.stderr)
        raise typer.Exit(2) from None
    runnable = spec.provider.name is ProviderName.LOCAL
    if runnable:
        plan_zones(spec)  # the trace, zones and start hour `hedge up` would use

    console = Console(highlight=False)
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, text in describe_spec(spec):
        table.add_row(label, text)
    console.print(f"[green]✓[/green] {spec_file} is a valid service spec")
    console.print(table)
    notes = list(spec.warnings())
    if not runnable:
        notes.append(f"hedge up cannot run provider {spec.provider.name.value!r} yet "
                     "(use provider: local, optionally with spot_emulation)")
    for note in notes:
        console.print(f"[yellow]warning:[/yellow] {note}")
