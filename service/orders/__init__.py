"""Service orders (网上申报、样品邮寄、专人受理): a client's instruments calibrated by its institute."""
