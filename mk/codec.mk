# codec fragment
