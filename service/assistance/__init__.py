"""SME assistance (计量服务中小企业行): the institute's yearly plan per region, its records, its progress."""
