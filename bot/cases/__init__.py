"""Cases (design §4): an opinion becomes a case and moves through its table of moves.

``moves`` the states and moves and who may make them; ``opinions`` a resident's opinion
before it is filed; ``access`` who sees a case and what; ``hot`` the topics that recur."""
