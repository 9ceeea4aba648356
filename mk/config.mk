# config fragment
