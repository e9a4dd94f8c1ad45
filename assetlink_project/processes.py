"""Child processes of `make demo` and `make serve`: start them, stop them all (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Children:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.procs: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        """Start `python *args` (or an executable of this virtualenv, e.g. gunicorn)."""
        program = [sys.executable] if args[0] in ("-m", "manage.py") else []
        child = subprocess.Popen([*program, *args], cwd=ROOT, env=self.env)
        self.procs.append(child)
        return child

    def run(self, *args: str) -> None:
        subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, check=True)

    def all_alive(self) -> bool:
        return all(child.poll() is None for child in self.procs)

    def stop_all(self) -> None:
        for child in reversed(self.procs):
            if child.poll() is None:
                child.terminate()
        for child in self.procs:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
