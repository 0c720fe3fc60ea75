"""Korean evaluation harness: multiple-choice sets (KMMLU, HAE-RAE, CLIcK formats) scored on a model."""

from jaju.evaluation.dataset import EvalFileError, Question, load_questions
from jaju.evaluation.report import compare_rows, run_eval, write_report

__all__ = ["EvalFileError", "Question", "compare_rows", "load_questions", "run_eval", "write_report"]
