"""Boards and honour: leaderboards, scheme policies, stars and badges, period close, kiosk."""
