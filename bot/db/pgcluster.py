"""A throwaway PostgreSQL cluster on a free loopback port in a temporary directory, for the
tests, the benchmarks and the demo: ``initdb``, ``pg_ctl start``, and ``pg_ctl stop`` at
the end. PostgreSQL refuses to run as root; as root, the server runs under the
``postgres`` account (which Debian's packages create)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_ACCOUNT = "postgres"


def find_binaries() -> tuple[Path | None, str]:
    """Where ``initdb`` and ``pg_ctl`` are, or None and why not."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent, ""
    # Debian keeps them out of PATH, in /usr/lib/postgresql/<version>/bin
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder), ""
    return None, (
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: on Debian, "
        "`apt-get install postgresql`"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running throwaway cluster; :meth:`url` names a database in it."""

    directory: Path
    port: int
    bin_dir: Path
    as_account: str | None  # run its programs as this account (we are root)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_ACCOUNT}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_account is not None:
            command = ["runuser", "-u", self.as_account, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def start() -> tuple[Cluster | None, str]:
    """Start a cluster; or None and why it could not be."""
    bin_dir, why = find_binaries()
    if bin_dir is None:
        return None, why
    as_account = None
    directory = Path(tempfile.mkdtemp(prefix="evalbot-pg-"))
    if os.geteuid() == 0:
        try:
            import pwd

            account = pwd.getpwnam(SERVER_ACCOUNT)
        except KeyError:
            shutil.rmtree(directory, ignore_errors=True)
            return None, (
                "running as root, and PostgreSQL refuses root: there is no "
                f"{SERVER_ACCOUNT!r} account to run the server as"
            )
        os.chown(directory, account.pw_uid, account.pw_gid)
        directory.chmod(0o700)
        as_account = SERVER_ACCOUNT
    cluster = Cluster(directory, _free_port(), bin_dir, as_account)
    data = str(directory / "data")
    made = cluster._run(
        "initdb", "-D", data, "-U", SERVER_ACCOUNT, "--auth=trust", "-E", "UTF8",
        "--locale=C", "--no-sync",
    )  # fmt: skip
    if made.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        return None, f"initdb failed: {made.stderr.strip() or made.stdout.strip()}"
    options = (
        f"-p {cluster.port} -k {directory} -c listen_addresses=127.0.0.1 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        "-c max_connections=200"
    )
    started = cluster._run(
        "pg_ctl", "-D", data, "-o", options, "-l", str(directory / "log"), "-w", "start"
    )
    if started.returncode != 0:
        log_text = (directory / "log").read_text() if (directory / "log").exists() else ""
        shutil.rmtree(directory, ignore_errors=True)
        return None, f"pg_ctl start failed: {started.stderr.strip()} {log_text[-500:]}"
    return cluster, ""
