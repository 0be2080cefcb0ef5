# The --backend option and the parametrization come from convspec's pytest plugin.
