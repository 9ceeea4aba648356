# crypto fragment
