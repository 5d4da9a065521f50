[install]
exact = true
