"""Policy simulation on history: vectorised across SKUs, pure (numpy)."""
