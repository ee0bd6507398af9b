"""The control engine: the control matrix, exceptions, input completeness, evaluation."""
