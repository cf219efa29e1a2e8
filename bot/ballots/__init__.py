"""The democratic evaluation (design §6): ``evaluation`` the evaluators, the window and a
cast answer; ``cards`` the one ballot card per evaluator."""
