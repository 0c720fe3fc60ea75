"""Regulator-ready reports from plain data: each returns a Report with JSON data and Markdown."""

from jaju.compliance.reports.base import Report
from jaju.compliance.reports.logs import ai_act_logs
from jaju.compliance.reports.model_card import model_card
from jaju.compliance.reports.notice import notice
from jaju.compliance.reports.ropa import ropa

__all__ = ["Report", "ai_act_logs", "model_card", "notice", "ropa"]
