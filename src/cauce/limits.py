"""Every limit Cauce enforces, in one place. Hitting one is a clear failure, never a hang."""

from __future__ import annotations

# Engine
MAX_STEPS_PER_ACTIVATION = 200
"""Nodes one input may walk through before the run fails with ``step_limit``."""
MAX_NODES_PER_FLOW = 1000
MAX_TEMPLATE_OUTPUT = 16_384
"""Characters a rendered Liquid template may produce."""
MAX_TEMPLATE_LOOP_ITERATIONS = 1000
MAX_RANDOM_SPLIT_PATHS = 5
MAX_CONDITION_BRANCHES = 20
MAX_USER_REGEX_LENGTH = 200
MAX_REGEX_SUBJECT = 2000
"""Characters of a message a user regex (trigger) is matched against: bounds backtracking."""
BUSINESS_TIME_MAX_SCAN_DAYS = 400
"""Calendar days a business-time wait looks ahead for an allowed instant before it gives up
(more than a year, so every weekday and every yearly holiday is seen at least once)."""

# WhatsApp Cloud API
WHATSAPP_TEXT_MAX = 4096
WHATSAPP_BUTTONS_MAX = 3
WHATSAPP_BUTTON_TITLE_MAX = 20
WHATSAPP_INTERACTIVE_BODY_MAX = 1024
WHATSAPP_FOOTER_MAX = 60
WHATSAPP_LIST_ROWS_MAX = 10
WHATSAPP_LIST_ROW_TITLE_MAX = 24
WHATSAPP_LIST_ROW_DESCRIPTION_MAX = 72
WHATSAPP_LIST_BUTTON_MAX = 20
WHATSAPP_MEDIA_CAPTION_MAX = 1024
WHATSAPP_WINDOW_HOURS = 24
WHATSAPP_FREE_ENTRY_POINT_HOURS = 72
WHATSAPP_DEFAULT_RATE_PER_SECOND = 80

# HTTP (webhooks in and out, HTTP request steps)
MAX_WEBHOOK_BODY_BYTES = 1_048_576
HTTP_STEP_MAX_RESPONSE_BYTES = 262_144
HTTP_STEP_TIMEOUT_SECONDS = 10.0

# API
API_PAGE_SIZE_DEFAULT = 50
API_PAGE_SIZE_MAX = 500
MAX_IMPORT_BYTES = 200 * 1024 * 1024
"""Size of a CSV contact import (a bigger file is refused with 413; split it)."""
