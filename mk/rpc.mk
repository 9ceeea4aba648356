# rpc fragment
