"""Programs the cell page offers to start from (ids, the same in every language).

Each is plain PyTorch as a notebook would hold it; tests run every one in the cell and in
CPython and compare what they print.
"""

TUTORIAL = '''import torch

t1 = torch.tensor([2., 3.], requires_grad=True)
print(t1)
print(t1.requires_grad)

x = torch.arange(3, dtype=torch.float32, requires_grad=True)
z = x + 1
z = z ** 2
z = z + 2
y = z.mean()
print(y)

y.backward()
print(x.grad)

from torchviz import make_dot

dot = make_dot(y, params={"x": x})
dot
'''

NEURON = '''import torch

# One neuron: two leaves, w and b, and a fixed input x
w = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(-1.0, requires_grad=True)
x = torch.tensor([0.5, 1.0, 1.5])

y = torch.sigmoid(w * x + b).mean()
y.backward()
print(f"y = {y.item():.4f}")
print("dy/dw =", w.grad)
print("dy/db =", b.grad)
'''

MICROGRAD = '''import torch

# The PyTorch half of micrograd's test_sanity_check
x = torch.Tensor([-4.0]).double()
x.requires_grad = True
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
print(y.data.item())
print(x.grad.item())
'''

VECTOR = '''import torch

# A vector y: backward() needs a weight for each element (a vector-Jacobian product)
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = x ** 2
v = torch.tensor([1., 0.1, 0.01])
y.backward(gradient=v)
print(x.grad)                      # v[i] * dy[i]/dx[i] = v[i] * 2 * x[i]

g, = torch.autograd.grad((x ** 3).sum(), x)
print(g)                           # 3 * x**2, without touching x.grad
'''

SECOND = '''import torch

# The second derivative: differentiate the first one again
x = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
f = torch.sin(x) * x
df, = torch.autograd.grad(f.sum(), x, create_graph=True)
d2f, = torch.autograd.grad(df.sum(), x)
print(df)
print(d2f)                         # 2*cos(x) - x*sin(x)
'''

DESCENT = '''import torch

# Gradient descent on (w - 3)**2, step by step
w = torch.tensor(0.0, requires_grad=True)
lr = 0.1
for step in range(5):
    loss = (w - 3) ** 2
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
    print(step, f"{loss.item():.4f}", f"{w.item():.4f}")
    w.grad.zero_()
'''

# The tutorial's first two cells, verbatim (the tensors page).
TENSORS = """import torch

t1 = torch.tensor([2.,3.])
print(t1)
print(t1.requires_grad)

t1 = torch.tensor([2.,3.], requires_grad=True)
print(t1)
print(t1.requires_grad)
"""

# Exercise 2's line, as the tutorial writes it, and what to print about it.
EXERCISE_2 = """import torch

t1 = torch.tensor([2,3], requires_grad=True)
print(t1)
print(t1.dtype)
"""

# Exercise 3's start: what to write, as comments (the student implements it).
EXERCISE_3 = """import torch
from torchviz import make_dot

# 1. x: a tensor with the numbers from 1 to 5 that requires grad
# 2. y: the mean of sin(x)·exp(x) + 1/(x + 2)
# 3. draw its graph with make_dot, call y.backward(), print y and x.grad
"""

EXAMPLES = {"neuron": NEURON, "tutorial": TUTORIAL, "micrograd": MICROGRAD,
            "vector": VECTOR, "second": SECOND, "descent": DESCENT}
DEFAULT = "neuron"
