"""The points shop (积分超市): catalogue, stock, redemption at the counter, cancel,
delivery and the monthly reconciliation. Each verb lives in its own module."""
