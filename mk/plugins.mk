# plugins fragment
