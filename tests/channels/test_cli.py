"""`cauce channels` as an operator uses it: real processes, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CAUCE = [sys.executable, "-m", "cauce"]


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(CAUCE + args, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_channels_add_list_and_errors(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAUCE_")}
    env["CAUCE_DATABASE_URL"] = f"sqlite:///{tmp_path}/cauce.db"
    env["CAUCE_DATA_DIR"] = str(tmp_path)
    assert run(["init"], env, tmp_path).returncode == 0
    added = run(["channels", "add", "whatsapp", "--phone-number-id", "106540352242922",
                 "--waba-id", "102290129340398", "--token", "EAAG-secret-token",
                 "--app-secret", "app-secret", "--verify-token", "verify-me"], env, tmp_path)
    assert added.returncode == 0, added.stderr
    assert "connected for 106540352242922" in added.stdout
    slack = run(["channels", "add", "slack", "--webhook-url",
                 "https://hooks.slack.com/services/T0/B0/x"], env, tmp_path)
    assert slack.returncode == 0, slack.stderr
    listed = run(["channels", "list"], env, tmp_path)
    assert listed.returncode == 0
    assert "whatsapp\tWhatsApp\t106540352242922\tactive" in listed.stdout
    assert "EAAG-secret-token" not in listed.stdout and "hooks.slack.com" not in listed.stdout
    again = run(["channels", "add", "whatsapp", "--phone-number-id", "106540352242922",
                 "--waba-id", "1", "--token", "t", "--app-secret", "s", "--verify-token", "v",
                 "--name", "Otro"], env, tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip() == \
        "error: config.phone_number_id: '106540352242922' is already connected in this workspace"
    twilio = run(["channels", "add", "sms", "--account-sid", "AC1"], env, tmp_path)
    assert twilio.returncode == 2 and "--auth-token" in twilio.stderr
