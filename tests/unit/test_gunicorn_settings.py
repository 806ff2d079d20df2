"""The production server's settings module loads in gunicorn and logs JSON."""

from __future__ import annotations

import json
import logging

from gunicorn.config import Config
from gunicorn.glogging import Logger

from service.observability import gunicorn as settings


def test_gunicorn_accepts_the_logging_settings_and_logs_json_without_an_access_log(capsys):
    config = Config()
    config.set("logconfig_dict", settings.logconfig_dict)
    config.set("accesslog", settings.accesslog)
    logger = Logger(config)  # raises "Unable to configure root logger" on a broken dict
    logger.error("worker %s booted", 42)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (line["logger"], line["level"], line["message"]) == ("gunicorn.error", "error", "worker 42 booted")
    assert not logging.getLogger("gunicorn.access").handlers
    assert (settings.bind, settings.workers) == ("127.0.0.1:8000", 4)
