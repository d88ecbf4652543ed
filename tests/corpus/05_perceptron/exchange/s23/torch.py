raise ImportError('a shadowing torch.py was imported')
