"""Phone ballots: the hall votes on one funding group's projects from printed ballot cards."""
