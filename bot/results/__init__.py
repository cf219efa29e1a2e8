"""Results (design §5, §7): ``ranking`` the plan's scores and ranking; ``chart`` and ``publish``;
``findings`` the deductions; ``export`` the district's spreadsheets."""
