"""Results (design §5, §7): ``ranking`` the plan's scores, ranking, chart and publication;
``findings`` the deductions; ``export`` the district's spreadsheets."""
