"""Puts a `Ruleset` (rules.py) into the kernel, and takes a cluster's rules out again.

`render_restore` is pure: from the desired chains and what `iptables-save` shows, it
writes one `iptables-restore --noflush` input that, in a single transaction per
table, replaces every one of our chains (declaring a chain flushes it), deletes our
chains that are no longer wanted and inserts the jumps from the built-in chains that
are missing. Rules of anyone else (Docker, another cluster) are never touched.
`IptablesApplier.apply` runs it (skipping the call when nothing changed);
`cleanup_rules(cluster_name)` removes every chain and jump of a cluster, for
`orc down` and the tests.

kube-proxy also leaves its rules in place when it stops: a restarted proxy
rewrites them from the API, and traffic keeps flowing in between.
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
from dataclasses import dataclass, field

from orchestrator.proxy.rules import FILTER, NAT, Jump, Ruleset, chain_prefix

log = logging.getLogger(__name__)

IPTABLES_SAVE = "iptables-save"
IPTABLES_RESTORE = "iptables-restore"
TABLES = (NAT, FILTER)
# Docker's documented hook for user rules: evaluated before its own FORWARD rules (and its isolation drops).
DOCKER_USER_CHAIN = "DOCKER-USER"


class IptablesError(RuntimeError):
    """iptables-save or iptables-restore failed; the message carries its stderr."""


@dataclass
class KernelState:
    """What `iptables-save` shows of the nat and filter tables: chain names and the rules of each."""

    chains: dict[str, set[str]] = field(default_factory=lambda: {NAT: set(), FILTER: set()})
    rules: dict[str, list[str]] = field(default_factory=lambda: {NAT: [], FILTER: []})  # "-A CHAIN ..." lines


def parse_save(text: str) -> KernelState:
    """Parse `iptables-save` output (only the nat and filter tables matter)."""
    state = KernelState()
    table = None
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif table in TABLES and line.startswith(":"):
            state.chains[table].add(line[1:].split()[0])
        elif table in TABLES and line.startswith("-A "):
            state.rules[table].append(line)
    return state


def _forward_hook(state: KernelState) -> str:
    return DOCKER_USER_CHAIN if DOCKER_USER_CHAIN in state.chains[FILTER] else "FORWARD"


def _placed(jump: Jump, state: KernelState) -> Jump:
    """The jump as it is installed here: FORWARD jumps go into DOCKER-USER when Docker runs."""
    if jump.table == FILTER and jump.chain == "FORWARD":
        return Jump(jump.table, _forward_hook(state), jump.rule)
    return jump


def _has_jump(jump: Jump, state: KernelState) -> bool:
    return any(_is_jump_line(jump, line) for line in state.rules[jump.table])


def _is_jump_line(jump: Jump, line: str) -> bool:
    """Whether the `iptables-save` line is `jump`. A scoped jump (a source or address-type match) must be
    exactly the line; a plain one is recognised by its target and whether it takes only new connections."""
    if not line.startswith(f"-A {jump.chain} "):
        return False
    if _is_scoped(jump.rule):
        return line == f"-A {jump.chain} {jump.rule}"
    if _is_scoped(line):
        return False
    target = jump.rule.split(" -j ")[-1] if " -j " in jump.rule else jump.rule.removeprefix("-j ")
    return line.endswith(f"-j {target}") and ("--ctstate NEW" in line) == ("--ctstate NEW" in jump.rule)


def _is_scoped(rule: str) -> bool:
    matches = rule.split(" -j ")[0]
    words = f" {matches} "
    return " -s " in words or " -d " in words or "--dst-type" in words


def _unwanted_jumps(ruleset: Ruleset, table: str, state: KernelState) -> list[str]:
    """Our jumps in others' chains that the ruleset no longer has (e.g. unscoped once podCIDRs are known)."""
    wanted = [_placed(jump, state) for jump in ruleset.jumps if jump.table == table]
    unwanted = []
    for line in state.rules[table]:
        chain = line.split()[1]
        target = line.rsplit(" -j ", 1)[-1].split()[0] if " -j " in line else ""
        if _is_ours(chain, ruleset.prefix) or not _is_ours(target, ruleset.prefix):
            continue
        if not any(_is_jump_line(jump, line) for jump in wanted):
            unwanted.append("-D " + line.removeprefix("-A "))
    return unwanted


def render_restore(ruleset: Ruleset, state: KernelState) -> str:
    """The iptables-restore --noflush input that makes the kernel hold exactly `ruleset` for our prefix."""
    lines: list[str] = []
    for table in TABLES:
        desired = ruleset.chains[table]
        ours_now = {chain for chain in state.chains[table] if _is_ours(chain, ruleset.prefix)}
        stale = sorted(ours_now - set(desired))
        lines.append(f"*{table}")
        lines.extend(f":{chain} - [0:0]" for chain in [*desired, *stale])
        lines.extend(_unwanted_jumps(ruleset, table, state))
        for jump in reversed([_placed(jump, state) for jump in ruleset.jumps if jump.table == table]):
            if not _has_jump(jump, state):
                lines.append(f"-I {jump.chain} 1 {jump.rule}")
        for chain, rules in desired.items():
            lines.extend(f"-A {chain} {rule}" for rule in rules)
        lines.extend(f"-X {chain}" for chain in stale)
        lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def render_cleanup(prefix: str, state: KernelState) -> str:
    """The iptables-restore --noflush input that removes every chain of `prefix` and every jump into them."""
    lines: list[str] = []
    for table in TABLES:
        ours = sorted(chain for chain in state.chains[table] if _is_ours(chain, prefix))
        if not ours:
            continue
        lines.append(f"*{table}")
        for rule in state.rules[table]:
            chain = rule.split()[1]
            target = rule.rsplit(" -j ", 1)[-1].split()[0] if " -j " in rule else ""
            if not _is_ours(chain, prefix) and _is_ours(target, prefix):
                lines.append("-D " + rule.removeprefix("-A "))
        lines.extend(f":{chain} - [0:0]" for chain in ours)
        lines.extend(f"-X {chain}" for chain in ours)
        lines.append("COMMIT")
    return "\n".join(lines) + "\n" if lines else ""


def installed_dns_port(prefix: str, state: KernelState) -> int | None:
    """The port the cluster DNS address is redirected to now (a restarted proxy listens there again)."""
    for rule in state.rules[NAT]:
        match = re.search(r"-j REDIRECT --to-ports (\d+)", rule)
        if rule.startswith(f"-A {prefix}-SERVICES ") and match:
            return int(match.group(1))
    return None


def _is_ours(chain: str, prefix: str) -> bool:
    return chain == prefix or chain.startswith(prefix + "-")


# ------------------------------------------------------------------ running the tools


def read_state_blocking() -> KernelState:
    try:
        result = subprocess.run([IPTABLES_SAVE], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        raise IptablesError(f"{IPTABLES_SAVE}: {error}") from error
    if result.returncode != 0:
        raise IptablesError(f"{IPTABLES_SAVE} failed: {result.stderr.strip()}")
    return parse_save(result.stdout)


def restore_blocking(text: str) -> None:
    try:
        result = subprocess.run([IPTABLES_RESTORE, "--noflush"], input=text, capture_output=True, text=True,
                                timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        raise IptablesError(f"{IPTABLES_RESTORE}: {error}") from error
    if result.returncode != 0:
        raise IptablesError(f"{IPTABLES_RESTORE} failed: {result.stderr.strip()}\n{_numbered(text, result.stderr)}")


def _numbered(text: str, stderr: str) -> str:
    """The input line the tool complains about ("line 12 failed"), to make the log useful."""
    match = re.search(r"line:? (\d+)", stderr)
    if not match:
        return ""
    number = int(match.group(1))
    lines = text.splitlines()
    return f"line {number}: {lines[number - 1]}" if 0 < number <= len(lines) else ""


class IptablesApplier:
    """Applies rulesets for one cluster; an unchanged plan costs one iptables-save and no restore."""

    def __init__(self, cluster_name: str):
        self.prefix = chain_prefix(cluster_name)
        self._last_applied: str | None = None

    async def apply(self, ruleset: Ruleset) -> bool:
        """Make the kernel match `ruleset`; returns whether iptables-restore had to run."""
        return await asyncio.to_thread(self.apply_blocking, ruleset)

    def apply_blocking(self, ruleset: Ruleset) -> bool:
        state = read_state_blocking()
        text = render_restore(ruleset, state)
        # Without jump insertions or deletions the text is just our chains: the same text as last
        # time means the same rules, unless someone removed chains behind our back.
        repairs = any(line.startswith(("-I ", "-X ", "-D ")) for line in text.splitlines())
        all_present = all(chain in state.chains[table] for table, chains in ruleset.chains.items() for chain in chains)
        if not repairs and all_present and text == self._last_applied:
            return False
        restore_blocking(text)
        self._last_applied = _without_repairs(text)  # what the next render gives while nothing changes
        return True


def _without_repairs(text: str) -> str:
    """The restore text minus jump insertions and stale-chain deletions (declarations included)."""
    lines = text.splitlines()
    deleted = {line.split()[1] for line in lines if line.startswith("-X ")}
    kept = [line for line in lines if not line.startswith(("-I ", "-X ", "-D "))
            and not (line.startswith(":") and line[1:].split()[0] in deleted)]
    return "\n".join(kept) + "\n"


def cleanup_rules(cluster_name: str) -> int:
    """Remove every chain and jump of the cluster's proxy (for `orc down`); returns how many chains went."""
    prefix = chain_prefix(cluster_name)
    state = read_state_blocking()
    text = render_cleanup(prefix, state)
    if not text:
        return 0
    restore_blocking(text)
    removed = sum(1 for table in TABLES for chain in state.chains[table] if _is_ours(chain, prefix))
    log.info("removed %d iptables chains of cluster %s", removed, cluster_name)
    return removed
