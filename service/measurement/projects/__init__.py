"""Comparison projects the institute organises as lead laboratory (主导实验室): provincial comparisons."""
