# store fragment
